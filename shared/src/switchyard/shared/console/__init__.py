"""The web console's shell (docs/console.md): login, layout, languages, assets.

Each page lives in the service that owns its data and renders through
``pages``; this package holds only what every page shares.
"""
