#!/usr/bin/env bash
# Service control policies and a delegated administrator against orgstack
# with the AWS CLI: enable SCPs, attach a deny policy to an OU next to
# FullAWSAccess and see both in list-policies-for-target, see the OU's last
# SCP refused to be detached, register a delegated administrator for
# Compute Optimizer (after enabling its trusted access), see the removal of
# that account refused, deregister it and remove it.
#
#   ORGSTACK_URL=http://127.0.0.1:4566 examples/policies.sh
#
set -euo pipefail

. "$(dirname "$0")/lib.sh"

echo "1. organization and a member account"
orgs "$MGMT" create-organization --feature-set ALL --query Organization.Id
ROOT=$(orgs "$MGMT" list-roots --query 'Roots[0].Id')
MEMBER=$(create_account "delegate-$RANDOM@example.com" delegate)
echo "  member $MEMBER"

echo "2. enable SCPs (an all-features organization starts with them; start over to show it)"
orgs "$MGMT" disable-policy-type --root-id "$ROOT" --policy-type SERVICE_CONTROL_POLICY >/dev/null
orgs "$MGMT" enable-policy-type --root-id "$ROOT" --policy-type SERVICE_CONTROL_POLICY >/dev/null
[ "$(orgs "$MGMT" list-roots --query "Roots[0].PolicyTypes[?Type=='SERVICE_CONTROL_POLICY'].Status")" = ENABLED ]
expect_error PolicyTypeAlreadyEnabledException orgs "$MGMT" enable-policy-type --root-id "$ROOT" --policy-type SERVICE_CONTROL_POLICY

echo "3. a deny policy on an OU"
OU=$(orgs "$MGMT" create-organizational-unit --parent-id "$ROOT" --name Sandbox --query OrganizationalUnit.Id)
DENY=$(orgs "$MGMT" create-policy --type SERVICE_CONTROL_POLICY --name deny-leaving --description "no leaving" \
	--content '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}' \
	--query Policy.PolicySummary.Id)
orgs "$MGMT" attach-policy --policy-id "$DENY" --target-id "$OU"
POLICIES=$(orgs "$MGMT" list-policies-for-target --target-id "$OU" --filter SERVICE_CONTROL_POLICY --query 'Policies[].Name')
echo "  SCPs of $OU: $POLICIES"
grep -q deny-leaving <<<"$POLICIES" && grep -q FullAWSAccess <<<"$POLICIES"

echo "4. the OU's last SCP stays"
orgs "$MGMT" detach-policy --policy-id p-FullAWSAccess --target-id "$OU"
expect_error "must keep at least" orgs "$MGMT" detach-policy --policy-id "$DENY" --target-id "$OU"

echo "5. a delegated administrator for Compute Optimizer"
expect_error ConstraintViolationException orgs "$MGMT" register-delegated-administrator --account-id "$MEMBER" --service-principal compute-optimizer.amazonaws.com
orgs "$MGMT" enable-aws-service-access --service-principal compute-optimizer.amazonaws.com
orgs "$MGMT" register-delegated-administrator --account-id "$MEMBER" --service-principal compute-optimizer.amazonaws.com
[ "$(orgs "$MGMT" list-delegated-administrators --service-principal compute-optimizer.amazonaws.com --query 'DelegatedAdministrators[0].Id')" = "$MEMBER" ]

echo "6. its removal is refused until it is deregistered"
# A created account must be four days old and standalone-ready to leave.
admin POST /_orgstack/clock '{"advance":"97h"}' >/dev/null
admin POST "/_orgstack/accounts/$MEMBER/standalone" '{"contactInfo":true,"phoneVerified":true,"eula":true,"paymentMethod":true}' >/dev/null
expect_error ConstraintViolationException orgs "$MGMT" remove-account-from-organization --account-id "$MEMBER"
orgs "$MGMT" deregister-delegated-administrator --account-id "$MEMBER" --service-principal compute-optimizer.amazonaws.com
orgs "$MGMT" remove-account-from-organization --account-id "$MEMBER"
expect_error AccountNotFoundException orgs "$MGMT" describe-account --account-id "$MEMBER"
echo "policies done"
