from mlc_assets.domain.currency import ISO_4217_CURRENCIES, is_booking_currency


def test_every_amazon_marketplace_currency_is_bookable() -> None:
    # US CA MX BR, UK DE FR IT ES NL SE PL BE TR IE, AE SA EG IN, JP AU SG ZA.
    for code in "USD CAD MXN BRL GBP EUR SEK PLN TRY AED SAR EGP INR JPY AUD SGD ZAR".split():
        assert is_booking_currency(code), code


def test_iso_codes_that_are_not_currencies_are_refused() -> None:
    for code in ("XXX", "XTS", "XAU", "XDR", "CHW", "usd", "US", "EURO", ""):
        assert not is_booking_currency(code), code
    assert all(len(c) == 3 and c.isupper() for c in ISO_4217_CURRENCIES)
