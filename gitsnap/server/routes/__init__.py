"""The seeds' endpoints, one module per resource; ``common`` holds what every route shares."""
