"""The browser editor (`cli.py serve`): a local web page that drives the editing core.

The server only parses requests, calls pipeline/edit's Editor and writes files into its working
folder; everything that edits lives in the core. One job (inversion, drag, paste-back) runs on
the device at a time (jobs.py); each browser tab has its own session (sessions.py).
"""
