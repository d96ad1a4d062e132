"""The HTML console: views, forms and URLs for people in a browser."""
