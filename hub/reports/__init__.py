"""Reports: daily rollups kept in step with the raw tables, and the figures read from them."""
