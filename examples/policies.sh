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
# Accounts are named by their access key id (orgstack's --auth open mode).
set -euo pipefail

URL=${ORGSTACK_URL:-http://127.0.0.1:4566}
MGMT=${MGMT_ACCOUNT:-111111111111}
export AWS_SECRET_ACCESS_KEY=orgstack AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

orgs() { # orgs ACCOUNT ARGS...: the organizations CLI acting as ACCOUNT
	local account=$1
	shift
	AWS_ACCESS_KEY_ID=$account aws --endpoint-url "$URL" --output text organizations "$@"
}
admin() { # admin METHOD PATH [JSON]
	curl -fsS -X "$1" -H 'Content-Type: application/json' ${ORGSTACK_ADMIN_TOKEN:+-H "Authorization: Bearer $ORGSTACK_ADMIN_TOKEN"} "$URL$2" ${3:+-d "$3"}
}
expect_error() { # expect_error TEXT COMMAND...: the command must fail mentioning TEXT
	# (AWS CLI v1 prints the error code and message, not the Reason)
	local text=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "expected $text, got success: $out" >&2
		exit 1
	fi
	if ! grep -q "$text" <<<"$out"; then
		echo "expected $text, got: $out" >&2
		exit 1
	fi
	echo "  refused as expected: $text"
}

echo "1. organization and a member account"
orgs "$MGMT" create-organization --feature-set ALL --query Organization.Id
ROOT=$(orgs "$MGMT" list-roots --query 'Roots[0].Id')
CAR=$(orgs "$MGMT" create-account --email "delegate-$RANDOM@example.com" --account-name delegate --query CreateAccountStatus.Id)
for _ in $(seq 1 30); do
	STATE=$(orgs "$MGMT" describe-create-account-status --create-account-request-id "$CAR" --query CreateAccountStatus.State)
	[ "$STATE" = IN_PROGRESS ] || break
	sleep 1
done
[ "$STATE" = SUCCEEDED ] || { echo "account creation ended $STATE" >&2; exit 1; }
MEMBER=$(orgs "$MGMT" describe-create-account-status --create-account-request-id "$CAR" --query CreateAccountStatus.AccountId)
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
