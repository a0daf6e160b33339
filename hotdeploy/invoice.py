"""Price an invoice with the sibling helper module pricing.py.

portway invoke ENV billing.price-invoice --payload '{"lines": [{"qty": 2, "price": 9.5}]}'
"""

import pricing

from portway import Service


class PriceInvoice(Service):
    name = "billing.price-invoice"

    def handle(self) -> None:
        lines = (self.request.payload or {}).get("lines", [])
        self.response.payload = pricing.total(lines)
