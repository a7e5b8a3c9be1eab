"""The local newsroom: fictional outlets served on loopback for the demo and the tests."""
