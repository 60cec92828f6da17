"""The baseline app: a bare Flask endpoint under the same gunicorn settings."""

from flask import Flask
from flask import jsonify
from flask import request

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return jsonify(ok=True)


@app.get("/bare")
def bare():
    return jsonify(points={"available": 1500, "pending": 0}, member=None)


@app.post("/bare")
def bare_post():
    request.get_data()  # read the delivery, keep nothing
    return jsonify(ok=True)
