"""Telemetry's data: the on-disk schema, the demo organization and (later) ingestion."""
