"""The rollups: build (data/rollups/build.py) and manifest (data/rollups/manifest.py), the builders' SQL in sql/."""
