# Ganymede's configuration, with JupyterHub's names: a jupyterhub_config.py written for
# JupyterHub works here as long as it is made of literal assignments (c.Class.name = value).
# Every setting and its default: /usr/share/doc/ganymede/config.md.gz, or
# `ganymede --help-config`. After a change: systemctl restart ganymede (servers keep running).

# Where users connect: configurable-http-proxy listens here and sends /hub/ to the hub and
# /user/<name>/ to each user's server. Put TLS on it with ssl_cert and ssl_key, or behind
# your own web server.
c.JupyterHub.bind_url = "http://:8000"
# c.JupyterHub.ssl_cert = "/etc/ssl/certs/hub.pem"
# c.JupyterHub.ssl_key = "/etc/ssl/private/hub.key"

# State: the database (JupyterHub's schema; a JupyterHub's jupyterhub.sqlite can be copied
# here and is upgraded in place) and the secret that signs cookies.
c.JupyterHub.db_url = "sqlite:////var/lib/ganymede/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/var/lib/ganymede/jupyterhub_cookie_secret"

# A restart (systemctl restart, a package upgrade) leaves the users' servers and the proxy
# running; the hub takes them over when it is back.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.cleanup_proxy = False

# Logins: the machine's accounts through PAM (the "login" service of /etc/pam.d).
c.JupyterHub.authenticator_class = "pam"
# Every account with a password may log in. To narrow it, remove this line and list them:
#   c.Authenticator.allowed_users = {"alice", "bob"}
# or a Unix group:
#   c.PAMAuthenticator.allowed_groups = {"jupyter"}
c.Authenticator.allow_all = True
# Admins use /hub/admin:
# c.Authenticator.admin_users = {"alice"}

# Servers: each user's jupyterhub-singleuser runs as that user, in their home directory.
c.JupyterHub.spawner_class = "localprocess"
# Debian's jupyterhub-singleuser (package jupyterhub) serves the classic notebook; Debian has no
# jupyter_server for it. Remove this line where jupyter_server is installed.
c.Spawner.environment = {"JUPYTERHUB_SINGLEUSER_APP": "notebook.notebookapp.NotebookApp"}
# c.Spawner.default_url = "/tree"
# c.Spawner.start_timeout = 60
