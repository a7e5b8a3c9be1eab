"""Scrapy spiders. One generic news-site spider, configured from the profile's SiteSource; outlet-specific
knowledge belongs in the profile (start URLs, sitemaps, allow/deny patterns), not in code."""
