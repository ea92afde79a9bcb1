"""LanceDB storage: schema, the one write API, indexes, migrations and SQL quoting."""
