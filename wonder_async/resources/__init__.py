"""Resources: thin classes that build a request, run it through the client, parse a model."""
