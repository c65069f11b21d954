"""The peer of `hounsfield bench render --lighting`: what VTK's GPU ray caster pays for
its volumetric shadows (VolumetricScatteringBlending, shadow rays across the whole volume)
against its gradient shading alone, full frames of the same views turning 5 degrees a
frame, on whatever OpenGL the machine has (Mesa's llvmpipe without a GPU).

Reads the volume the bench wrote (little-endian int16, x fastest), the preset as JSON
(the transfer function the bench draws), and prints one JSON line.
"""

import argparse
import json
import statistics
import time

import numpy as np
import vtk
from vtk.util.numpy_support import numpy_to_vtk


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--dims", required=True, help="X,Y,Z voxels")
    parser.add_argument("--spacing", required=True, help="X,Y,Z mm")
    parser.add_argument("--preset", required=True, help="the preset, as JSON")
    parser.add_argument("--size", required=True, help="WIDTHxHEIGHT")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--light", required=True, help="X,Y,Z towards the light")
    return parser.parse_args()


def image_of(args):
    nx, ny, nz = (int(v) for v in args.dims.split(","))
    voxels = np.fromfile(args.raw, dtype="<i2").reshape(nz, ny, nx)
    image = vtk.vtkImageData()
    image.SetDimensions(nx, ny, nz)
    image.SetSpacing(*(float(v) for v in args.spacing.split(",")))
    scalars = numpy_to_vtk(voxels.ravel(), deep=1, array_type=vtk.VTK_SHORT)
    image.GetPointData().SetScalars(scalars)
    return image


def property_of(preset):
    colours = vtk.vtkColorTransferFunction()
    for point in preset["colour"]:
        colours.AddRGBPoint(point["value"], *point["rgb"])
    opacity = vtk.vtkPiecewiseFunction()
    for point in preset["opacity"]:
        opacity.AddPoint(point["value"], point["opacity"])
    volume_property = vtk.vtkVolumeProperty()
    volume_property.SetColor(colours)
    volume_property.SetScalarOpacity(opacity)
    volume_property.SetInterpolationTypeToLinear()
    volume_property.ShadeOn()
    shading = preset.get("shading") or {}
    volume_property.SetAmbient(shading.get("ambient", 0.2))
    volume_property.SetDiffuse(shading.get("diffuse", 0.9))
    volume_property.SetSpecular(shading.get("specular", 0.3))
    volume_property.SetSpecularPower(shading.get("specular_power", 10.0))
    return volume_property


def main():
    args = arguments()
    with open(args.preset, encoding="utf-8") as file:
        preset = json.load(file)
    width, height = (int(v) for v in args.size.split("x"))
    image = image_of(args)
    mapper = vtk.vtkGPUVolumeRayCastMapper()
    mapper.SetInputData(image)
    mapper.AutoAdjustSampleDistancesOff()
    mapper.SetSampleDistance(min(image.GetSpacing()) / 2)
    volume = vtk.vtkVolume()
    volume.SetMapper(mapper)
    volume.SetProperty(property_of(preset))
    renderer = vtk.vtkRenderer()
    renderer.AddVolume(volume)
    renderer.SetBackground(0, 0, 0)
    light = vtk.vtkLight()
    light.SetLightTypeToSceneLight()
    light.SetPositional(False)
    centre = image.GetCenter()
    towards = [float(v) for v in args.light.split(",")]
    light.SetFocalPoint(*centre)
    light.SetPosition(*(c + 1000 * t for c, t in zip(centre, towards)))
    renderer.AddLight(light)
    window = vtk.vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(width, height)
    window.AddRenderer(renderer)
    camera = renderer.GetActiveCamera()
    camera.SetFocalPoint(*centre)
    camera.SetPosition(centre[0], centre[1] - 1000, centre[2])
    camera.SetViewUp(0, 0, 1)
    renderer.ResetCamera()
    camera.Zoom(1.3)

    def timed(blending):
        mapper.SetVolumetricScatteringBlending(blending)
        mapper.SetGlobalIlluminationReach(1.0 if blending > 0 else 0.0)
        # The first frame compiles the shader: left out.
        window.Render()
        window.WaitForCompletion()
        times = []
        for _ in range(args.frames):
            camera.Azimuth(5)
            started = time.perf_counter()
            window.Render()
            window.WaitForCompletion()
            times.append((time.perf_counter() - started) * 1000)
        camera.Azimuth(-5 * args.frames)
        return statistics.median(times)

    shading_ms = timed(0.0)
    shadows_ms = timed(1.0)
    capabilities = window.ReportCapabilities() or ""
    gl = [
        line.split(":", 1)[1].strip()
        for line in capabilities.splitlines()
        if "renderer string" in line.lower()
    ]
    print(
        json.dumps(
            {
                "vtk": vtk.vtkVersion.GetVTKVersion(),
                "gl": gl[0] if gl else "",
                "frames": args.frames,
                "shading_ms": round(shading_ms, 1),
                "shadows_ms": round(shadows_ms, 1),
                "ratio": round(shadows_ms / max(shading_ms, 1e-9), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
