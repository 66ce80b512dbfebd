#!/usr/bin/env python3
"""Compute Optimizer Automation across an organization, driven by boto3.

A management account creates an organization and two member accounts,
enrolls in Automation, gives Compute Optimizer trusted access and makes one
member its delegated administrator, associates both members, has the
delegated administrator create an organization rule for them, disassociates
one (rules can no longer target it), removes the other from the
organization (its association ends), and a standalone account gets the
errors AWS gives it.

Run it against a running orgstack:

    ORGSTACK_ENDPOINT=http://127.0.0.1:4566 \
    ACO_MODEL_DIR=../shared/models/compute-optimizer-automation \
    python3 examples/automation_org.py

boto3 ships a Compute Optimizer Automation model that speaks RPC v2 CBOR;
this script loads a temporary copy of the model whose protocol is awsJson
1.0 instead (through botocore's AWS_DATA_PATH), so that botocore's JSON
serializer talks to orgstack. Exit status 0: every step held; 3: skipped
(boto3 or the model missing); anything else: a step failed.
"""

import shutil
import time


MGMT, STANDALONE = "610000000001", "610000000099"
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
    """Two member accounts, made by CreateAccount and waited for."""
    o = orgs(MGMT)
    ids = []
    for n in (1, 2):
        st = o.create_account(Email="member%d@example.com" % n, AccountName="member-%d" % n)["CreateAccountStatus"]
        for _ in range(100):
            if st["State"] != "IN_PROGRESS":
                break
            time.sleep(0.05)
            st = o.describe_create_account_status(CreateAccountRequestId=st["Id"])["CreateAccountStatus"]
        assert st["State"] == "SUCCEEDED", st
        ids.append(st["AccountId"])
    return ids


def main():
    o = orgs(MGMT)
    step("management account %s creates an organization" % MGMT)
    org = o.create_organization(FeatureSet="ALL")["Organization"]

    m1, m2 = None, None
    m1, m2 = create_members()
    step("member accounts %s and %s created" % (m1, m2))

    step("the management account enrolls in Automation")
    out = aco(MGMT).update_enrollment_configuration(status="Active")
    assert out["status"] == "Active", out

    step("trusted access for Compute Optimizer; %s becomes its delegated administrator" % m1)
    expect_error("ConstraintViolationException", o.register_delegated_administrator, AccountId=m1, ServicePrincipal=CO)
    o.enable_aws_service_access(ServicePrincipal=CO)
    o.register_delegated_administrator(AccountId=m1, ServicePrincipal=CO)
    das = o.list_delegated_administrators(ServicePrincipal=CO)["DelegatedAdministrators"]
    assert [d["Id"] for d in das] == [m1], das
    expect_error("ConstraintViolationException", o.register_delegated_administrator, AccountId=m2, ServicePrincipal=CO)

    step("the management account associates both members (and cannot associate itself)")
    out = aco(MGMT).associate_accounts(accountIds=[m1, m2, MGMT])
    assert out["accountIds"] == [m1, m2] and len(out["errors"]) == 1 and out["errors"][0].startswith(MGMT), out
    for m in (m1, m2):
        e = aco(m).get_enrollment_configuration()
        assert e["status"] == "Active" and e["organizationRuleMode"] == "AnyAllowed", e
    accounts = aco(m1).list_accounts()["accounts"]
    assert {a["accountId"] for a in accounts} == {MGMT, m1, m2}, accounts

    step("the delegated administrator creates an organization rule for both")
    rule = aco(m1).create_automation_rule(
        name="org-snapshot-idle",
        ruleType="OrganizationRule",
        organizationConfiguration={"ruleApplyOrder": "BeforeAccountRules", "accountIds": [m1, m2]},
        recommendedActionTypes=["SnapshotAndDeleteUnattachedEbsVolume"],
        criteria={"ebsVolumeSizeInGib": [{"comparison": "NumericLessThanEquals", "values": [100]}]},
        schedule={"scheduleExpression": "0 3 * * *", "scheduleExpressionTimezone": "Europe/Berlin", "executionWindowInMinutes": 120},
        status="Active",
        tags=[{"key": "owner", "value": "platform"}],
    )
    assert rule["ruleRevision"] == 1 and rule["ruleType"] == "OrganizationRule", rule
    got = aco(m2).get_automation_rule(ruleArn=rule["ruleArn"])
    assert got["accountId"] == m1, got
    expect_error("AccessDeniedException", aco(m2).update_automation_rule, ruleArn=rule["ruleArn"], ruleRevision=1, status="Inactive")

    step("the management account disassociates %s: rules can no longer target it" % m1)
    out = aco(MGMT).disassociate_accounts(accountIds=[m1])
    assert out["accountIds"] == [m1], out
    assert aco(m1).get_enrollment_configuration()["organizationRuleMode"] == "NoneAllowed"
    expect_error("InvalidParameterValueException", aco(m1).update_automation_rule,
                 ruleArn=rule["ruleArn"], ruleRevision=1, organizationConfiguration={"accountIds": [m1, m2]})
    rule = aco(m1).update_automation_rule(ruleArn=rule["ruleArn"], ruleRevision=1, organizationConfiguration={"accountIds": [m2]})
    assert rule["ruleRevision"] == 2 and rule["organizationConfiguration"]["accountIds"] == [m2], rule

    step("the management account removes %s from the organization" % m2)
    # A created account needs its standalone information and four days of
    # membership before it can leave; the virtual clock provides the days.
    admin("POST", "/_orgstack/accounts/%s/standalone" % m2, {"contactInfo": True, "paymentMethod": True, "phoneVerified": True, "eula": True})
    admin("POST", "/_orgstack/clock", {"advance": "120h"})
    o.remove_account_from_organization(AccountId=m2)
    e = aco(m2).get_enrollment_configuration()
    assert "organizationRuleMode" not in e, e
    expect_error("ResourceNotFoundException", aco(m2).get_automation_rule, ruleArn=rule["ruleArn"])
    out = aco(MGMT).disassociate_accounts(accountIds=[m2])
    assert out["accountIds"] == [] and len(out["errors"]) == 1, out
    accounts = aco(MGMT).list_accounts()["accounts"]
    assert m2 not in {a["accountId"] for a in accounts}, accounts
    expect_error("InvalidParameterValueException", aco(m1).update_automation_rule,
                 ruleArn=rule["ruleArn"], ruleRevision=2, organizationConfiguration={"accountIds": [m2]})

    step("a standalone account %s gets the standalone errors" % STANDALONE)
    s = aco(STANDALONE)
    expect_error("OptInRequiredException", s.associate_accounts, accountIds=[m1])
    s.update_enrollment_configuration(status="Active")
    assert "organizationRuleMode" not in s.get_enrollment_configuration()
    expect_error("NotManagementAccountException", s.associate_accounts, accountIds=[m1])
    expect_error("NotManagementAccountException", s.disassociate_accounts, accountIds=[m1])
    expect_error("NotManagementAccountException", s.list_accounts)
    expect_error("AccessDeniedException", s.create_automation_rule,
                 name="x", ruleType="OrganizationRule", organizationConfiguration={"ruleApplyOrder": "AfterAccountRules"},
                 recommendedActionTypes=["UpgradeEbsVolumeType"], schedule={"scheduleExpression": "0 4 * * *"}, status="Active")
    expect_error("AWSOrganizationsNotInUseException", orgs(STANDALONE).describe_organization)
    expect_error("AWSOrganizationsNotInUseException", orgs(STANDALONE).register_delegated_administrator, AccountId=m1, ServicePrincipal=CO)
    # Its own account rules work.
    own = s.create_automation_rule(name="mine", ruleType="AccountRule", recommendedActionTypes=["UpgradeEbsVolumeType"],
                                   schedule={"scheduleExpression": "0 4 * * *"}, status="Active")
    assert own["ruleArn"] == "arn:aws:compute-optimizer::%s:automation-rule/%s" % (STANDALONE, own["ruleId"]), own

    print("OK")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(DATA_PATH, ignore_errors=True)
