"""presswatch.digest"""
