"""The analysts' workspace in the browser (`presswatch web`)."""
