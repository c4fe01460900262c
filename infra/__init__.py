"""Infrastructure around the Lambda code: the local stack, deployment helpers."""
