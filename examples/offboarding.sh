#!/usr/bin/env bash
# Account vending and offboarding against orgstack with the AWS CLI:
# create an organization, create an account and wait for it, build an OU
# tree, move and tag the account, invite a standalone account and accept as
# it, then offboard: the removal is refused until the account's standalone
# information is supplied, then it is removed (tags gone, DescribeAccount
# answers AccountNotFoundException), and the other account leaves by itself.
#
#   ORGSTACK_URL=http://127.0.0.1:4566 examples/offboarding.sh
#
set -euo pipefail

. "$(dirname "$0")/lib.sh"

echo "1. organization"
orgs "$MGMT" create-organization --feature-set ALL --query Organization.Id
ROOT=$(orgs "$MGMT" list-roots --query 'Roots[0].Id')

echo "2. create an account and poll until it exists"
VENDED=$(create_account "vended-$RANDOM@example.com" vended)
echo "  created $VENDED"

echo "3. OU tree, move and tag"
WORKLOADS=$(orgs "$MGMT" create-organizational-unit --parent-id "$ROOT" --name Workloads --query OrganizationalUnit.Id)
PROD=$(orgs "$MGMT" create-organizational-unit --parent-id "$WORKLOADS" --name Prod --query OrganizationalUnit.Id)
orgs "$MGMT" move-account --account-id "$VENDED" --source-parent-id "$ROOT" --destination-parent-id "$PROD"
orgs "$MGMT" tag-resource --resource-id "$VENDED" --tags Key=team,Value=payments Key=env,Value=prod
[ "$(orgs "$MGMT" list-parents --child-id "$VENDED" --query 'Parents[0].Id')" = "$PROD" ]

echo "4. invite a standalone account and accept as it"
GUEST=$(admin POST /_orgstack/accounts '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["accountId"])')
HS=$(orgs "$MGMT" invite-account-to-organization --target "Id=$GUEST,Type=ACCOUNT" --query Handshake.Id)
orgs "$GUEST" accept-handshake --handshake-id "$HS" --query Handshake.State

echo "5. offboard the vended account"
# A created account must be four days old before it can leave; move the
# virtual clock instead of waiting.
admin POST /_orgstack/clock '{"advance":"97h"}' >/dev/null
expect_error ConstraintViolationException orgs "$MGMT" remove-account-from-organization --account-id "$VENDED"
admin POST "/_orgstack/accounts/$VENDED/standalone" '{"contactInfo":true,"phoneVerified":true,"eula":true,"paymentMethod":true}' >/dev/null
orgs "$MGMT" remove-account-from-organization --account-id "$VENDED"
[ -z "$(orgs "$MGMT" list-tags-for-resource --resource-id "$VENDED" 2>/dev/null || true)" ]
expect_error AccountNotFoundException orgs "$MGMT" describe-account --account-id "$VENDED"

echo "6. the invited account leaves on its own"
orgs "$GUEST" leave-organization
expect_error AWSOrganizationsNotInUseException orgs "$GUEST" describe-organization
echo "offboarding done"
