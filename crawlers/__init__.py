"""presswatch.crawlers"""
