"""`wheelbase bench`: build speed, image size and serving speed, measured side by side."""
