"""The stack's alarms and its CloudWatch dashboard, generated from one table of watched metrics.

Every alarm notifies `AlertsTopic`; the dashboard shows the same metrics (plus a few context ones)
and an alarm-status widget, so what pages someone and what they look at never drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

CFN = dict[str, Any]

STATE_MACHINE_ARN: CFN = {"Ref": "CalloutStateMachine"}
# Distributed Map children report under "<state machine ARN>/<Map Label>" (ASL: CallReceivers).
MAP_LABEL = "CallReceivers"
MAP_RUN_ARN: CFN = {"Fn::Sub": "${CalloutStateMachine}/" + MAP_LABEL}
CONNECT_INSTANCE_ID: CFN = {
    "Fn::If": [
        "CreateConnectInstance",
        {"Fn::GetAtt": ["ConnectInstance", "Id"]},
        {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "ConnectInstanceArn"}]}]},
    ]
}
FLOW_NAME: CFN = {"Fn::Sub": "${AWS::StackName}-outbound-call"}
VOICE_CALLS: CFN = {"InstanceId": CONNECT_INSTANCE_ID, "MetricGroup": "VoiceCalls"}
CONTACT_FLOW: CFN = {
    "InstanceId": CONNECT_INSTANCE_ID,
    "MetricGroup": "ContactFlow",
    "ContactFlowName": FLOW_NAME,
}
# Powertools Metrics: namespace POWERTOOLS_METRICS_NAMESPACE, dimension service.
SERVICE: CFN = {"service": "callouts"}
CALLOUTS_NAMESPACE = "Callouts"
DEPLOYMENT_FAULT_METRIC = "Dial_deployment_fault"
FLOW_P99_MS = 3000  # Connect waits at most 8 s; well before that the line is silent too long


def _function(name: str) -> CFN:
    return {"FunctionName": {"Ref": name}}


def _queue(name: str) -> CFN:
    return {"QueueName": {"Fn::GetAtt": [name, "QueueName"]}}


@dataclass(frozen=True)
class Watch:
    """One alarm: metric, threshold and what it means for the people being called."""

    alarm: str  # logical id
    description: str
    namespace: str
    metric: str
    dimensions: CFN
    statistic: str = "Sum"  # or a percentile such as "p99"
    threshold: float = 0
    period: int = 60
    widget: str = ""  # dashboard widget title


def _dead_letter(alarm: str, queue: str, what: str) -> Watch:
    return Watch(
        alarm,
        what,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        _queue(queue),
        statistic="Maximum",
        period=300,
        widget="Dead-letter and failure queues (messages)",
    )


WATCHES: tuple[Watch, ...] = (
    Watch(
        "CallFlowErrorsAlarm",
        "The contact flow's Lambda failed: someone on a call heard the apology and was hung up.",
        "AWS/Lambda",
        "Errors",
        _function("CallFlowFunction"),
        widget="Voice path: flow Lambda",
    ),
    Watch(
        "CallFlowThrottlesAlarm",
        "The contact flow's Lambda was throttled (account concurrency): calls hear silence or an "
        "apology. Raise the Lambda quota or set CallFlowReservedConcurrency.",
        "AWS/Lambda",
        "Throttles",
        _function("CallFlowFunction"),
        widget="Voice path: flow Lambda",
    ),
    Watch(
        "CallFlowDurationAlarm",
        f"p99 of the contact flow's Lambda is over {FLOW_P99_MS} ms: people wait in silence "
        "between answer and next question (Connect gives up at 8 s).",
        "AWS/Lambda",
        "Duration",
        _function("CallFlowFunction"),
        statistic="p99",
        threshold=FLOW_P99_MS,
        period=300,
        widget="Voice path: flow Lambda p99 duration (ms)",
    ),
    Watch(
        "DialerErrorsAlarm",
        "The dialer failed on a batch (see its logs); its messages are retried, then "
        "dead-lettered.",
        "AWS/Lambda",
        "Errors",
        _function("DialerFunction"),
        widget="Dialer",
    ),
    Watch(
        "DialerDeploymentFaultAlarm",
        "Amazon Connect refused a call because of the stack's set-up (instance, contact flow, "
        "source number or permissions): the job was stopped. Check the dialer logs.",
        CALLOUTS_NAMESPACE,
        DEPLOYMENT_FAULT_METRIC,
        SERVICE,
        widget="Dialer",
    ),
    Watch(
        "ExecutionsFailedAlarm",
        "A job's execution failed (no report, or report/notice failed): see the job's execution.",
        "AWS/States",
        "ExecutionsFailed",
        {"StateMachineArn": STATE_MACHINE_ARN},
        widget="Jobs (state machine)",
    ),
    Watch(
        "ExecutionsTimedOutAlarm",
        "A job's execution timed out: its remaining receivers got no call.",
        "AWS/States",
        "ExecutionsTimedOut",
        {"StateMachineArn": STATE_MACHINE_ARN},
        widget="Jobs (state machine)",
    ),
    Watch(
        "MapRunFailuresAlarm",
        "A receiver's child execution in the Distributed Map failed: its result may be missing.",
        "AWS/States",
        "ExecutionsFailed",
        {"StateMachineArn": MAP_RUN_ARN},
        widget="Receivers (Map run child executions)",
    ),
    Watch(
        "ContactFlowErrorsAlarm",
        "The outbound contact flow took an error branch (Lex, Lambda or prompt failed).",
        "AWS/Connect",
        "ContactFlowErrors",
        CONTACT_FLOW,
        widget="Amazon Connect: contact flow",
    ),
    Watch(
        "ContactFlowFatalErrorsAlarm",
        "The outbound contact flow failed fatally: calls were dropped by Connect.",
        "AWS/Connect",
        "ContactFlowFatalErrors",
        CONTACT_FLOW,
        widget="Amazon Connect: contact flow",
    ),
    Watch(
        "ThrottledCallsAlarm",
        "Connect throttled outbound calls (StartOutboundVoiceContact rate): they are retried.",
        "AWS/Connect",
        "ThrottledCalls",
        VOICE_CALLS,
        widget="Amazon Connect: calls",
    ),
    Watch(
        "CallsBreachingConcurrencyQuotaAlarm",
        "Calls exceeded the instance's concurrent-call quota: lower MaxConcurrentCalls x "
        "MaxRunningJobs or raise the quota.",
        "AWS/Connect",
        "CallsBreachingConcurrencyQuota",
        VOICE_CALLS,
        widget="Amazon Connect: calls",
    ),
    Watch(
        "ConcurrentCallsPercentageAlarm",
        "Over 90% of the instance's concurrent-call quota in use.",
        "AWS/Connect",
        "ConcurrentCallsPercentage",
        VOICE_CALLS,
        statistic="Maximum",
        threshold=90,
        widget="Amazon Connect: concurrent calls (% of quota)",
    ),
    _dead_letter(
        "JobDeadLetterAlarm",
        "JobDeadLetterQueue",
        "A job message could not be started (see the start-job logs).",
    ),
    _dead_letter(
        "CallsDeadLetterAlarm",
        "CallsDeadLetterQueue",
        "A call task could not be dialled (see the dialer logs); its call ends at the task "
        "timeout.",
    ),
    _dead_letter(
        "ScheduleDeadLetterAlarm",
        "ScheduleDeadLetterQueue",
        "EventBridge Scheduler could not send a scheduled job's occurrence to the job queue "
        "within an hour of retries: that occurrence did not start (the message says which).",
    ),
    _dead_letter(
        "AsyncFailuresAlarm",
        "AsyncFailuresQueue",
        "An upload, a Connect contact event or an execution status change failed after retries "
        "(see the function's logs); a call waits for its task timeout, an ended job may still "
        "show as running.",
    ),
    _dead_letter(
        "EventsDeadLetterAlarm",
        "EventsDeadLetterQueue",
        "EventBridge could not deliver an event to a function (see the message's attributes).",
    ),
    _dead_letter(
        "StreamFailuresAlarm",
        "StreamFailuresQueue",
        "A batch of the results stream failed after retries: those results were not posted "
        "to the chat (Slack or Teams).",
    ),
)

# Context shown next to the alarmed metrics (namespace, metric, dimensions, statistic).
CONTEXT: dict[str, list[tuple[str, str, CFN, str]]] = {
    "Voice path: flow Lambda": [
        ("AWS/Lambda", "Invocations", _function("CallFlowFunction"), "Sum"),
        ("AWS/Lambda", "ConcurrentExecutions", _function("CallFlowFunction"), "Maximum"),
    ],
    "Dialer": [
        (CALLOUTS_NAMESPACE, "Dial_dialled", SERVICE, "Sum"),
        (CALLOUTS_NAMESPACE, "Dial_not_callable", SERVICE, "Sum"),
        (CALLOUTS_NAMESPACE, "Dial_waiting", SERVICE, "Sum"),
    ],
    "Jobs (state machine)": [
        ("AWS/States", "ExecutionsStarted", {"StateMachineArn": STATE_MACHINE_ARN}, "Sum"),
        ("AWS/States", "ExecutionsSucceeded", {"StateMachineArn": STATE_MACHINE_ARN}, "Sum"),
    ],
    "Receivers (Map run child executions)": [
        ("AWS/States", "ExecutionsStarted", {"StateMachineArn": MAP_RUN_ARN}, "Sum"),
        ("AWS/States", "ExecutionsSucceeded", {"StateMachineArn": MAP_RUN_ARN}, "Sum"),
    ],
    "Amazon Connect: calls": [
        ("AWS/Connect", "CallsPerInterval", VOICE_CALLS, "Sum"),
        ("AWS/Connect", "ConcurrentCalls", VOICE_CALLS, "Maximum"),
    ],
    "Dead-letter and failure queues (messages)": [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", _queue("CallsQueue"), "Maximum"),
    ],
}


def alarm_resource(watch: Watch) -> CFN:
    properties: CFN = {
        "AlarmDescription": watch.description,
        "Namespace": watch.namespace,
        "MetricName": watch.metric,
        "Dimensions": [{"Name": name, "Value": value} for name, value in watch.dimensions.items()],
        "Period": watch.period,
        "EvaluationPeriods": 1,
        "Threshold": watch.threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "AlertsTopic"}],
    }
    if watch.statistic.startswith("p"):
        properties["ExtendedStatistic"] = watch.statistic
    else:
        properties["Statistic"] = watch.statistic
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


class _Placeholders:
    """Turns CloudFormation values into ${VarN} names of one Fn::Sub over the dashboard body."""

    def __init__(self) -> None:
        self.variables: dict[str, CFN] = {}

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        for name, known in self.variables.items():
            if known == value:
                return "${" + name + "}"
        name = f"Var{len(self.variables)}"
        self.variables[name] = value
        return "${" + name + "}"


def _metric_line(
    sub: _Placeholders, namespace: str, metric: str, dimensions: CFN, statistic: str
) -> list[Any]:
    line: list[Any] = [namespace, metric]
    for name, value in dimensions.items():
        line += [name, sub(value)]
    line.append({"stat": statistic})
    return line


def dashboard_resource() -> CFN:
    sub = _Placeholders()
    titles = list(dict.fromkeys(watch.widget for watch in WATCHES))
    widgets: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "width": 24,
            "height": 4,
            "properties": {
                "title": "Callouts alarms",
                "alarms": [sub({"Fn::GetAtt": [w.alarm, "Arn"]}) for w in WATCHES],
            },
        }
    ]
    for index, title in enumerate(titles):
        lines = [
            _metric_line(sub, w.namespace, w.metric, w.dimensions, w.statistic)
            for w in WATCHES
            if w.widget == title
        ]
        lines += [_metric_line(sub, *extra) for extra in CONTEXT.get(title, [])]
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": 4 + (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": "${AWS::Region}",
                    "view": "timeSeries",
                    "period": 60,
                    "metrics": lines,
                },
            }
        )
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "${AWS::StackName}-callouts"},
            "DashboardBody": {"Fn::Sub": [body, sub.variables]},
        },
    }


def monitoring_resources() -> CFN:
    resources: CFN = {watch.alarm: alarm_resource(watch) for watch in WATCHES}
    resources["Dashboard"] = dashboard_resource()
    return resources
