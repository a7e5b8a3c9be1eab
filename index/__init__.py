"""presswatch.index"""
