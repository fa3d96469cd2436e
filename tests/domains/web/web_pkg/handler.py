import json
import os


def main(event, context):
    body = {"stage": os.environ.get("STAGE"), "host": (event.get("headers") or {}).get("Host"), "path": event["path"]}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
