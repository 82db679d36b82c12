"""Pure domain: no boto3, no Slack. Everything here runs the same on AWS and on a laptop."""
