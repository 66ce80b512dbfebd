#!/usr/bin/env python3
"""Compute Optimizer Automation acting on EBS volumes, driven by boto3.

A management account creates an organization with two members, enrolls in
Automation and associates both. orgstack's inventory admin API seeds EBS
volumes in the members; the management account sees their recommended
actions and savings, previews an organization rule, creates it for
tomorrow 02:00 in Europe/Berlin, and advances the orgstack clock by two
days: the rule's events complete and the inventory changed (volumes
deleted with a snapshot kept, gp2 upgraded to gp3). Rolling one event back
restores the volume under a new id; a volume seeded with failStep ends in
a Failed event.

Run it against a running orgstack:

    ORGSTACK_ENDPOINT=http://127.0.0.1:4566 \
    ACO_MODEL_DIR=../shared/models/compute-optimizer-automation \
    python3 examples/automation_events.py

Like examples/automation_org.py, it loads a copy of the Automation model
whose protocol is awsJson 1.0. Exit status 0: every step held; 3: skipped
(boto3 or the model missing); anything else: a step failed.
"""

import shutil
import time
from datetime import timezone
import urllib.error
import urllib.request


MGMT = "620000000001"
CO = "compute-optimizer.amazonaws.com"


from orgstack_example import (  # noqa: E402  (shared helpers beside this script)
    ENDPOINT,
    skip,
    client,
    orgs,
    aco,
    expect_error,
    admin,
    step,
    ClientError,
    DATA_PATH,
)



def create_members():
    o = orgs(MGMT)
    ids = []
    for n in (1, 2):
        st = o.create_account(Email="ebs-member%d@example.com" % n, AccountName="ebs-member-%d" % n)["CreateAccountStatus"]
        for _ in range(200):
            if st["State"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
            st = o.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]
        assert st["State"] == "SUCCEEDED", st
        ids.append(st["AccountId"])
    return ids


def volumes(account):
    return {v["volumeId"]: v for v in admin("GET", "/_orgstack/inventory/ebs-volumes?accountId=" + account)["volumes"]}


def all_pages(fn, key, **kwargs):
    out = []
    while True:
        page = fn(**kwargs)
        out += page[key]
        if not page.get("nextToken"):
            return out
        kwargs["nextToken"] = page["nextToken"]


def main():
    # A virtual clock: Monday 2026-03-02 10:00 UTC.
    admin("POST", "/_orgstack/clock", {"set": "2026-03-02T10:00:00Z"})
    o = orgs(MGMT)
    step("management account %s creates an organization with two members" % MGMT)
    o.create_organization(FeatureSet="ALL")
    m1, m2 = create_members()
    aco(MGMT).update_enrollment_configuration(status="Active")
    o.enable_aws_service_access(ServicePrincipal=CO)
    out = aco(MGMT).associate_accounts(accountIds=[m1, m2])
    assert out["accountIds"] == [m1, m2], out

    step("seed EBS volumes in both members")
    idle = "2026-01-01T00:00:00Z"
    v1 = admin("POST", "/_orgstack/inventory/ebs-volumes", {"volumes": [
        {"accountId": m1, "region": "eu-central-1", "volumeType": "gp3", "sizeInGib": 200, "attached": False, "unattachedSince": idle, "tags": {"team": "data"}},
        {"accountId": m1, "region": "eu-central-1", "volumeType": "gp2", "sizeInGib": 1000, "attached": True, "tags": {"team": "web"}},
    ]})["volumeIds"]
    v2 = admin("POST", "/_orgstack/inventory/ebs-volumes", {"volumes": [
        {"accountId": m2, "region": "eu-central-1", "volumeType": "gp2", "sizeInGib": 50, "attached": False, "unattachedSince": idle, "failStep": "CreateEbsSnapshot"},
        {"accountId": m2, "region": "us-east-1", "volumeType": "st1", "sizeInGib": 500, "attached": True},
    ]})["volumeIds"]

    step("the management account sees the members' recommended actions and savings")
    a = aco(MGMT)
    actions = all_pages(a.list_recommended_actions, "recommendedActions", maxResults=2)
    by = {(x["resourceId"], x["recommendedActionType"]): x for x in actions}
    assert set(by) == {(v1[0], "SnapshotAndDeleteUnattachedEbsVolume"), (v1[1], "UpgradeEbsVolumeType"),
                       (v2[0], "SnapshotAndDeleteUnattachedEbsVolume"), (v2[0], "UpgradeEbsVolumeType")}, sorted(by)
    for x in actions:
        print("    %s %-38s %-30s saves $%.2f/month" % (x["accountId"], x["recommendedActionType"], x["resourceId"],
                                                        x["estimatedMonthlySavings"]["beforeDiscountSavings"]))
    up = by[(v1[1], "UpgradeEbsVolumeType")]
    assert up["recommendedResourceDetails"]["ebsVolume"]["configuration"]["type"] == "gp3", up
    assert up["estimatedMonthlySavings"]["beforeDiscountSavings"] > 0, up
    sums = a.list_recommended_action_summaries()["recommendedActionSummaries"]
    assert {s["key"]: s["total"]["recommendedActionCount"] for s in sums} == {"SnapshotAndDeleteUnattachedEbsVolume": 2, "UpgradeEbsVolumeType": 2}, sums
    assert len(aco(m2).list_recommended_actions()["recommendedActions"]) == 2

    step("preview an organization rule: idle volumes and upgrades in eu-central-1")
    config = dict(
        ruleType="OrganizationRule",
        recommendedActionTypes=["SnapshotAndDeleteUnattachedEbsVolume", "UpgradeEbsVolumeType"],
        criteria={"region": [{"comparison": "StringEquals", "values": ["eu-central-1"]}],
                  "ebsVolumeType": [{"comparison": "StringNotEquals", "values": ["gp2"]}]},
    )
    preview = a.list_automation_rule_preview(**config)["previewResults"]
    # gp2 volumes are left out by the criteria: only m1's idle gp3 volume.
    assert [p["resourceId"] for p in preview] == [v1[0]], preview
    config["criteria"] = {"region": [{"comparison": "StringLike", "values": ["eu-*"]}]}
    preview = a.list_automation_rule_preview(**config)["previewResults"]
    assert len(preview) == 4, preview

    step("create it for tomorrow 02:00 Europe/Berlin and advance the clock two days")
    rule = a.create_automation_rule(
        name="nightly-ebs", ruleType="OrganizationRule",
        organizationConfiguration={"ruleApplyOrder": "BeforeAccountRules"},
        recommendedActionTypes=config["recommendedActionTypes"], criteria=config["criteria"],
        schedule={"scheduleExpression": "0 2 * * *", "scheduleExpressionTimezone": "Europe/Berlin", "executionWindowInMinutes": 60},
        status="Active")
    admin("POST", "/_orgstack/clock", {"advance": "48h"})
    events = all_pages(a.list_automation_events, "automationEvents")
    for e in events:
        print("    %s %-38s %-30s %s %s" % (e["accountId"], e["eventType"], e["resourceId"], e["eventStatus"], e.get("eventStatusReason", "")))
    assert all(e["ruleId"] == rule["ruleId"] for e in events), events
    # 02:00 CET is 01:00 UTC; the two days hold two runs (3 and 4 March).
    # The first completes what it can; the volume whose snapshot fails is
    # still recommended, so the second run tries it again.
    runs = sorted({e["createdTimestamp"].astimezone(timezone.utc).isoformat() for e in events})
    assert runs == ["2026-03-03T01:00:00+00:00", "2026-03-04T01:00:00+00:00"], runs
    done = {(e["resourceId"], e["eventType"]): e["eventStatus"] for e in events if e["eventStatus"] != "Failed"}
    assert done == {(v1[0], "SnapshotAndDeleteUnattachedEbsVolume"): "Complete", (v1[1], "UpgradeEbsVolumeType"): "Complete"}, done
    failures = [e for e in events if e["eventStatus"] == "Failed"]
    assert [e["resourceId"] for e in failures] == [v2[0], v2[0]], failures

    step("the inventory changed: a snapshot kept and the volume deleted, the gp2 volume now gp3")
    vols = volumes(m1)
    assert vols[v1[0]]["state"] == "deleted" and vols[v1[1]]["volumeType"] == "gp3", vols
    snaps = admin("GET", "/_orgstack/inventory/ebs-snapshots?accountId=" + m1)["snapshots"]
    deleted = next(e for e in events if e["resourceId"] == v1[0])
    assert [s["tags"]["aws:compute-optimizer:automation-event-id"] for s in snaps] == [deleted["eventId"]], snaps
    steps = a.list_automation_event_steps(eventId=deleted["eventId"])["automationEventSteps"]
    assert [(s["stepType"], s["stepStatus"]) for s in steps] == [("CreateEbsSnapshot", "Complete"), ("DeleteEbsVolume", "Complete")], steps
    failed = failures[0]
    assert "CreateEbsSnapshot" in failed["eventStatusReason"], failed
    assert volumes(m2)[v2[0]]["state"] == "available"

    step("roll the delete back: the volume comes back from its snapshot under a new id")
    rb = a.rollback_automation_event(eventId=deleted["eventId"])
    assert rb["eventStatus"] == "RollbackReady", rb
    admin("POST", "/_orgstack/clock", {"advance": "1m"})
    got = a.get_automation_event(eventId=deleted["eventId"])
    assert got["eventStatus"] == "RollbackComplete", got
    restored = [v for v in volumes(m1).values() if v.get("sourceSnapshot") == snaps[0]["snapshotId"]]
    assert len(restored) == 1 and restored[0]["volumeId"] != v1[0] and restored[0]["tags"] == {"team": "data"}, restored
    assert restored[0]["volumeType"] == "gp3" and restored[0]["sizeInGib"] == 200, restored
    expect_error("InvalidParameterValueException", a.rollback_automation_event, eventId=failed["eventId"])

    summaries = a.list_automation_event_summaries()["automationEventSummaries"]
    assert sum(s["total"]["automationEventCount"] for s in summaries) == 4, summaries
    print("OK")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(DATA_PATH, ignore_errors=True)
