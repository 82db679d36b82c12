"""boto3 adapters: the only backend code that talks to AWS."""
