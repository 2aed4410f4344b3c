"""The stdio JSON-RPC server: decode params → call the service → encode result / errors."""
