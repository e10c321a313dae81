from marketplace.cli import app

app(prog_name="python -m marketplace")
