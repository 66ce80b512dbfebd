# Helpers shared by the AWS CLI examples; source it after `set -euo pipefail`.
# Accounts are named by their access key id (orgstack's --auth open mode).

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
	# (AWS CLI v1 prints the error code and message, not a Reason)
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
create_account() { # create_account EMAIL NAME: create an account as $MGMT and wait; prints its id
	local car state
	car=$(orgs "$MGMT" create-account --email "$1" --account-name "$2" --query CreateAccountStatus.Id)
	for _ in $(seq 1 30); do
		state=$(orgs "$MGMT" describe-create-account-status --create-account-request-id "$car" --query CreateAccountStatus.State)
		[ "$state" = IN_PROGRESS ] || break
		sleep 1
	done
	[ "$state" = SUCCEEDED ] || { echo "account creation ended $state" >&2; exit 1; }
	orgs "$MGMT" describe-create-account-status --create-account-request-id "$car" --query CreateAccountStatus.AccountId
}
