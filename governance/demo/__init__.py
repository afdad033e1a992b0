"""A synthetic world the console can govern out of the box.

The demo is a lead-scoring setting for a free-zone business-setup authority:
companies enquire about setting up a licence, and a model scores each lead's
chance of converting. `governance.demo.leads` generates the leads (with a
recorded-outcome disparity across one nationality region, drift in the latest
months and a few data-quality blemishes) and stores them as a monthly versioned
Delta table; `governance.demo.training` trains, logs and registers the demo's
models in MLflow so the console has versions to assess, approve and monitor.
"""
