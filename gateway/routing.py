"""Path prefix → service, from shared.topology (the one route table)."""

from shared.topology import SERVICES


class RouteTable:
    """Matches whole path segments: /api/users and /api/users/me go to user_service, /api/usersx nowhere."""

    def __init__(self) -> None:
        self.by_prefix: dict[str, str] = {}
        for spec in SERVICES.values():
            for prefix in spec.prefixes:
                self.by_prefix[prefix.rstrip("/")] = spec.name
        # Longest first, so a nested prefix would win over its parent.
        self.depths = sorted({prefix.count("/") for prefix in self.by_prefix}, reverse=True)

    def match(self, path: str) -> str | None:
        for depth in self.depths:
            cut = -1
            for _ in range(depth + 1):
                cut = path.find("/", cut + 1)
                if cut == -1:
                    break
            candidate = path if cut == -1 else path[:cut]
            service = self.by_prefix.get(candidate)
            if service is not None:
                return service
        return None
