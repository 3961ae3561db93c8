"""OCPP 1.5 SOAP for the simulator: its ChargePointService and station (wire: ocpp15wire)."""
