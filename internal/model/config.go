package model

// Config says what differs between the generated service packages.
type Config struct {
	ModelDir  string // below the models root, e.g. "organizations/2016-11-28"
	Package   string // Go package name and directory below internal/api
	Name      string // short service name for logs, metrics and errors
	Namespace string // Smithy namespace of the service's shapes
	// InternalError is the exception the service answers for its own faults.
	InternalError string
	// ClientErrorStatus, when set, is the HTTP status of every client-fault
	// exception, whatever the model says. The real Organizations service
	// answers all client errors with 400 (see ../shared/docs/PROTOCOLS.md).
	ClientErrorStatus int
}

// Services are the services orgstack serves.
var Services = []Config{
	{
		ModelDir:          "organizations/2016-11-28",
		Package:           "organizations",
		Name:              "organizations",
		Namespace:         "com.amazonaws.organizations",
		InternalError:     "ServiceException",
		ClientErrorStatus: 400,
	},
	{
		ModelDir:      "compute-optimizer-automation/2025-09-22",
		Package:       "automation",
		Name:          "automation",
		Namespace:     "com.amazonaws.computeoptimizerautomation",
		InternalError: "InternalServerException",
	},
}
