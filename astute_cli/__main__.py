from astute_cli.cli import app

app(prog_name="astute")
