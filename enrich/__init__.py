"""presswatch.enrich"""
