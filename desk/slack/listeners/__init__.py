"""Thin listeners: ack, parse the payload into plain values, call one service, render with a builder."""
