"""Traces and logs of a stage: a local X-Ray daemon and store for `stagewise dev`, the segments the local
API Gateway and Lambda write, the views `stagewise traces` / `stagewise logs` print (from local state or
from X-Ray and CloudWatch Logs on AWS).

Modules: `segments` (trace headers and the segment documents AWS services write), `emit` (the local
services' side: send those documents to the daemon), `daemon` (UDP on loopback → `store`), `store`
(recent traces, durable, bounded), `model` (segment documents → one waterfall), `render` (terminal and
HTML), `logs` (function log lines kept per function, and their pretty form), `local` (what a dev session
runs), `aws` (the same views on a deployed stage).
"""
