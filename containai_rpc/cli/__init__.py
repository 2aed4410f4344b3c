"""`cai`: a tiny client that speaks the containai/* protocol to a server it starts."""
