from scraper.cli import app

app(prog_name="python -m scraper")
