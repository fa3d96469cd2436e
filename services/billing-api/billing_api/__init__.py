"""The billing service: `POST /billing` charges a storage plan with Stripe and announces the purchase on SNS.

Modules: `cost` (plan price), `settings` (environment), `payments` (Stripe, key from SSM),
`purchases` (SNS publish with retries and the SQS outbox), `api` (the Powertools resolver and
the Lambda handler), `outbox` (the handler that drains the outbox on a schedule).
"""
