"""The declarative resource framework: describe a resource once, get its handlers."""
