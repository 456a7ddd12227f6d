"""Everything that imports qgis or PyQt: the Processing provider, its algorithms and settings."""
