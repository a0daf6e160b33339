"""Hot-deploy: service files in pickup folders go live as they are saved."""
