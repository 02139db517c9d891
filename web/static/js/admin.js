// The admin panel (to be written): everything through the REST API.
