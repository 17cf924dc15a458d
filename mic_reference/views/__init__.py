"""The MIC's HTTP endpoints, by the step of the flow they serve."""
