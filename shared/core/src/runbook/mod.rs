//! Runbooks: the templates in `runbooks/`, chosen and rendered for one event or maintenance.
