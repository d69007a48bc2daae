"""One Locust file per service: scenarios/<service>.py, each a subclass of load.base.ApiUser."""
