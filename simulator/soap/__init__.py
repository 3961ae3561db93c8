"""OCPP 1.5 over SOAP for the simulator: codec, envelopes, the ChargePointService, the station."""
