"""A helper module, not a service: service files in this folder `import pricing`.

Change VAT_RATE and save: every service that imports this file is redeployed.
"""

VAT_RATE = 0.20


def total(lines: list[dict[str, float]]) -> dict[str, float]:
    """Net, VAT and gross of invoice lines like {"qty": 2, "price": 9.5}."""
    net = round(sum(line["qty"] * line["price"] for line in lines), 2)
    vat = round(net * VAT_RATE, 2)
    return {"net": net, "vat": vat, "gross": round(net + vat, 2)}
