"""NetBox data into Danbyte: importers for what NetBox users bring with them."""
