"""Qt-free, I/O-free domain core: models, geo, spatial index, ranking, consent policy,
CAD parsers and URL redaction. Imports neither Qt, SQLAlchemy, requests nor av."""
